# Bash completion for sagesync: the commands, each command's options (as
# its parser takes them), the values of --output and --log-format, files
# for --config and validate's paths, and the current directory's Git
# branches and tags for the options that take a revision.
#
# Installed as share/bash-completion/completions/sagesync; to try it from
# a checkout: source scripts/sagesync-completion.bash
# tests/controller/test_help.sh checks that it offers every option each
# command's --help lists: keep the two in step.

_sagesync_commands="validate plan apply status run history rollback doctor
version help"

# the long options of command $1
_sagesync_options()
{
	case $1 in
	validate) echo "--output --help" ;;
	doctor) echo "--config --fix --help" ;;
	plan)
		echo "--config --revision --base --head --output --log-format" \
			"--help"
		;;
	apply)
		echo "--config --once --revision --allow-mass-prune" \
			"--log-format --help"
		;;
	status) echo "--config --revision --log-format --help" ;;
	run) echo "--config --log-format --help" ;;
	history) echo "--config --endpoint --output --help" ;;
	rollback) echo "--config --to --reason --log-format --help" ;;
	version) echo "--help" ;;
	esac
}

# the branches and tags of the repository in the current directory
_sagesync_revisions()
{
	echo HEAD
	git for-each-ref --format='%(refname:short)' 2>/dev/null
}

# COMPREPLY: the words of $1 that start with $cur
_sagesync_words()
{
	mapfile -t COMPREPLY < <(compgen -W "$1" -- "$cur")
}

# COMPREPLY: the files and directories that start with $cur
_sagesync_files()
{
	compopt -o filenames 2>/dev/null
	mapfile -t COMPREPLY < <(compgen -f -- "$cur")
}

_sagesync()
{
	local cur=${COMP_WORDS[COMP_CWORD]} prev='' cmd=${COMP_WORDS[1]-}
	local IFS=$' \t\n'

	COMPREPLY=()
	[ "$COMP_CWORD" -gt 0 ] && prev=${COMP_WORDS[COMP_CWORD - 1]}
	# --opt=value: bash splits it into "--opt" "=" "value"
	if [ "$cur" = "=" ]; then
		cur=
	elif [ "$prev" = "=" ] && [ "$COMP_CWORD" -gt 1 ]; then
		prev=${COMP_WORDS[COMP_CWORD - 2]}
	fi

	if [ "$COMP_CWORD" -le 1 ]; then
		case $cur in
		-*) _sagesync_words "--help --version" ;;
		*) _sagesync_words "$_sagesync_commands" ;;
		esac
		return 0
	fi

	case $prev in
	-c | --config) _sagesync_files ;;
	-r | --revision | --base | --head | --to)
		_sagesync_words "$(_sagesync_revisions)"
		;;
	-o | --output)
		if [ "$cmd" = plan ]; then
			_sagesync_words "text json markdown"
		else
			_sagesync_words "text json"
		fi
		;;
	--log-format) _sagesync_words "json text" ;;
	-e | --endpoint | --reason) ;; # free text
	*)
		case $cur in
		-*) _sagesync_words "$(_sagesync_options "$cmd")" ;;
		*) [ "$cmd" = validate ] && _sagesync_files ;;
		esac
		;;
	esac
	return 0
}

complete -F _sagesync sagesync
