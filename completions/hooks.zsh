#compdef hooks

_hooks_completion() {
  eval $(env _TYPER_COMPLETE_ARGS="${words[1,$CURRENT]}" _HOOKS_COMPLETE=complete_zsh hooks)
}

compdef _hooks_completion hooks
