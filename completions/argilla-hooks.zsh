#compdef argilla-hooks

_argilla_hooks_completion() {
  eval $(env _TYPER_COMPLETE_ARGS="${words[1,$CURRENT]}" _ARGILLA_HOOKS_COMPLETE=complete_zsh argilla-hooks)
}

compdef _argilla_hooks_completion argilla-hooks
