_hooks_completion() {
    local item
    local -a answer
    mapfile -t answer < <(env COMP_LINE="${COMP_LINE:0:COMP_POINT}" _HOOKS_COMPLETE=complete_bash $1)
    COMPREPLY=()
    for item in "${answer[@]}"; do
        case $item in
            file,*) compopt -o default ;;
            plain,*) COMPREPLY+=("${item#plain,}") ;;
        esac
    done
    return 0
}

complete -F _hooks_completion hooks
