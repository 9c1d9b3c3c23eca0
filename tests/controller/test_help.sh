#!/bin/sh
# The --help of every command and the bash completion, kept in step with
# the parsers: each help is a man page with the usual sections; every
# long option it lists is accepted by its command; a usage error prints
# the synopsis only; the completion offers every command and every option
# the helps list. Nothing reaches AWS: each run names a configuration
# that does not exist. Usage: test_help.sh SAGESYNC_BINARY SOURCE_DIR
set -u
bin=$1
src=$2
# the tests run in a directory of their own
case $bin in /*) ;; *) bin=$PWD/$bin ;; esac
case $src in /*) ;; *) src=$PWD/$src ;; esac
completion=$src/scripts/sagesync-completion.bash
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
passed=0
failed=0
commands="validate doctor plan apply status run history rollback version"

ok() { passed=$((passed + 1)); }
bad() { failed=$((failed + 1)); echo "FAIL: $*"; }

# show FILE: its lines, marked, under a failure
show() { sed 's/^/  | /' "$1"; }

# section NAME FILE: the lines of a man-page section, without its header
section() {
	awk -v want="$1" '/^[^ ]/ { in_it = ($0 == want); next } in_it' "$2"
}

# help_options FILE: the long options a help lists, in its SYNOPSIS (but
# not the top level's, as in "sagesync --version") and in the option
# lines of its OPTIONS (not the descriptions under them)
help_options() {
	{
		section SYNOPSIS "$1" | grep -v '^    sagesync -'
		section OPTIONS "$1" | grep '^    -'
	} | grep -o -- '--[a-z][a-z-]*' | sort -u
}

# option_arg FILE OPTION: the name of the option's argument (FILE, REV...),
# empty when it takes none
option_arg() {
	{
		section SYNOPSIS "$1"
		section OPTIONS "$1" | grep '^    -'
	} | sed -n "s/.*$2 \([A-Z][A-Z]*\).*/\1/p" | head -n 1
}

# a value each kind of argument accepts
value_for() {
	case $1 in
	FILE) echo "$tmp/missing.yaml" ;;
	FORMAT) echo text ;;
	REV) echo HEAD ;;
	*) echo x ;;
	esac
}

# required FILE: the options of the first form of the SYNOPSIS outside
# brackets: what every run of the command needs
required() {
	section SYNOPSIS "$1" | awk 'NR == 1 || (/^     / && !done) { print; next }
		{ done = 1 }' | sed 's/\[[^]]*\]//g' |
		grep -o -- '--[a-z][a-z-]*' | sort -u
}

# completions WORD...: what the completion offers for the command line
# WORD... (the last word is the one being completed), one a line
completions() {
	bash -c '. "$1" || exit 1
		shift
		COMP_WORDS=("$@")
		COMP_CWORD=$(($# - 1))
		_sagesync
		printf "%s\n" "${COMPREPLY[@]}"' bash "$completion" "$@"
}

mkdir "$tmp/empty"
cd "$tmp/empty" || exit 1

# ---- the top level -------------------------------------------------------

if "$bin" --help >"$tmp/top" 2>"$tmp/err" && [ ! -s "$tmp/err" ]; then
	ok
else
	bad "--help: not exit 0 on stdout"
fi
for s in NAME SYNOPSIS DESCRIPTION COMMANDS GLOBAL ENVIRONMENT FILES \
	"EXIT STATUS" EXAMPLES "SEE ALSO"; do
	if grep -qx "$s" "$tmp/top"; then ok; else bad "--help: no $s"; fi
done
for c in $commands; do
	if section COMMANDS "$tmp/top" | grep -q "^    $c  "; then ok; else
		bad "--help: $c not in COMMANDS"
	fi
done
if "$bin" help >"$tmp/out" 2>&1 && cmp -s "$tmp/out" "$tmp/top"; then
	ok
else
	bad "help: not the same as --help"
fi

# ENVIRONMENT names exactly the variables the sources read
section ENVIRONMENT "$tmp/top" | grep -oE '(AWS|SAGESYNC)_[A-Z0-9_]*' |
	sort -u >"$tmp/env-help"
grep -rhoE '"(AWS|SAGESYNC)_[A-Z0-9_]*' "$src/common" "$src/manifests" \
	"$src/reconcilers" "$src/controller" --include='*.c' | tr -d '"' |
	sort -u >"$tmp/env-src"
if cmp -s "$tmp/env-help" "$tmp/env-src"; then ok; else
	bad "--help ENVIRONMENT differs from the variables in the sources" \
		"(< help, > sources)"
	diff "$tmp/env-help" "$tmp/env-src" | grep '^[<>]'
fi

# a usage error: the synopsis and a pointer to --help, not the whole page
"$bin" >"$tmp/out" 2>"$tmp/err"
if [ $? -eq 2 ] && grep -q '^usage: sagesync ' "$tmp/err" &&
	grep -qF "Run 'sagesync --help' for more." "$tmp/err" &&
	! grep -q DESCRIPTION "$tmp/err"; then ok; else
	bad "no arguments: not exit 2 with the synopsis"
	show "$tmp/err"
fi

# ---- each command --------------------------------------------------------

for c in $commands; do
	h=$tmp/help-$c
	if "$bin" "$c" --help >"$h" 2>"$tmp/err" && [ -s "$h" ] &&
		[ ! -s "$tmp/err" ]; then ok; else
		bad "$c --help: not exit 0 on stdout"
		show "$tmp/err"
	fi
	for s in NAME SYNOPSIS DESCRIPTION OPTIONS "EXIT STATUS" EXAMPLES; do
		if grep -qx "$s" "$h"; then ok; else bad "$c --help: no $s"; fi
	done
	if grep -q "^    sagesync $c - " "$h"; then ok; else
		bad "$c --help: NAME is not 'sagesync $c - ...'"
	fi
	if awk 'length($0) > 80 { exit 1 }' "$h"; then ok; else
		bad "$c --help: lines over 80 columns"
		awk 'length($0) > 80' "$h"
	fi
	n=$(section EXAMPLES "$h" | grep -c '^        [^ ]')
	if [ "$n" -ge 2 ]; then ok; else bad "$c --help: $n examples"; fi

	# the options the examples use are the command's
	help_options "$h" >"$tmp/opts"
	section EXAMPLES "$h" | grep "^        sagesync $c " |
		grep -o -- ' --[a-z][a-z-]*' | tr -d ' ' | sort -u |
		while read -r o; do
			grep -qx -- "$o" "$tmp/opts" ||
				echo "$c --help: an example uses $o"
		done >"$tmp/unknown"
	if [ ! -s "$tmp/unknown" ]; then ok; else
		bad "$(cat "$tmp/unknown")"
	fi

	# what every run needs; a configuration that does not exist, so
	# that the run ends as soon as the options are taken
	set --
	for o in $(required "$h"); do
		a=$(option_arg "$h" "$o")
		set -- "$@" "$o"
		[ -n "$a" ] && set -- "$@" "$(value_for "$a")"
	done
	"$bin" "$c" "$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	if [ "$c" = version ] || [ $rc -ne 2 ]; then ok; else
		bad "$c $*: exit 2"
		show "$tmp/err"
	fi

	# every long option listed is accepted, beside what every run needs
	for o in $(help_options "$h"); do
		case " $* " in *" $o "*) continue ;; esac
		[ "$o" = --help ] && continue
		a=$(option_arg "$h" "$o")
		if [ -n "$a" ]; then
			"$bin" "$c" "$@" "$o" "$(value_for "$a")" \
				>"$tmp/out" 2>"$tmp/err"
		else
			"$bin" "$c" "$@" "$o" >"$tmp/out" 2>"$tmp/err"
		fi
		rc=$?
		if [ $rc -ne 2 ] &&
			! grep -q 'unrecognized option' "$tmp/err"; then ok; else
			bad "$c $* $o${a:+ $a}: exit $rc, the option is refused"
			show "$tmp/err"
		fi
	done

	# a bogus option: exit 2, the synopsis only
	"$bin" "$c" --bogus-option >"$tmp/out" 2>"$tmp/err"
	rc=$?
	if [ $rc -eq 2 ]; then ok; else bad "$c --bogus-option: exit $rc"; fi
	if grep -q "^usage: sagesync $c" "$tmp/err" &&
		grep -qF "Run 'sagesync $c --help' for more." "$tmp/err" &&
		! grep -q DESCRIPTION "$tmp/err"; then ok; else
		bad "$c --bogus-option: not the synopsis only on stderr"
		head -n 6 "$tmp/err" | sed 's/^/  | /'
	fi
done

# ---- the bash completion -------------------------------------------------

if ! command -v bash >/dev/null; then
	bad "no bash to test the completion with"
else
	completions sagesync "" >"$tmp/c"
	for c in $commands; do
		if grep -qx "$c" "$tmp/c"; then ok; else
			bad "completion of 'sagesync ': no $c"
			show "$tmp/c"
		fi
	done
	completions sagesync plan -- >"$tmp/c"
	for o in --base --head --output --config --revision; do
		if grep -qx -- "$o" "$tmp/c"; then ok; else
			bad "completion of 'sagesync plan --': no $o"
		fi
	done
	completions sagesync plan --output "" >"$tmp/c"
	for v in text json markdown; do
		if grep -qx "$v" "$tmp/c"; then ok; else
			bad "completion of 'sagesync plan --output ': no $v"
		fi
	done
	completions sagesync history --output "" >"$tmp/c"
	if [ "$(sort "$tmp/c" | tr '\n' ' ')" = "json text " ]; then ok; else
		bad "completion of 'sagesync history --output ': not text json"
		show "$tmp/c"
	fi
	completions sagesync run --log-format "" >"$tmp/c"
	if [ "$(sort "$tmp/c" | tr '\n' ' ')" = "json text " ]; then ok; else
		bad "completion of 'sagesync run --log-format ': not json text"
		show "$tmp/c"
	fi

	# every option each --help lists is offered for that command
	for c in $commands; do
		completions sagesync "$c" -- >"$tmp/c"
		for o in $(help_options "$tmp/help-$c"); do
			if grep -qx -- "$o" "$tmp/c"; then ok; else
				bad "completion of 'sagesync $c --': no $o," \
					"which its --help lists"
			fi
		done
	done

	# files for --config and for validate's paths
	touch "$tmp/empty/prod.yaml"
	mkdir "$tmp/empty/environments"
	completions sagesync apply --config pr >"$tmp/c"
	if grep -qx prod.yaml "$tmp/c"; then ok; else
		bad "completion of --config: no file"
	fi
	completions sagesync validate env >"$tmp/c"
	if grep -qx environments "$tmp/c"; then ok; else
		bad "completion of validate's paths: no directory"
	fi

	# the branches and tags of the repository here, for revisions
	if command -v git >/dev/null; then
		git init -q -b main "$tmp/repo" 2>/dev/null ||
			git init -q "$tmp/repo"
		(cd "$tmp/repo" &&
			git -c user.name=t -c user.email=t@example.com \
				commit -q --allow-empty -m one &&
			git tag v1.4 && git branch feature)
		for o in --revision --base --head; do
			(cd "$tmp/repo" && completions sagesync plan "$o" "") \
				>"$tmp/c"
			if grep -qx v1.4 "$tmp/c" && grep -qx feature "$tmp/c"; then
				ok
			else
				bad "completion of plan $o: no tag or branch"
				show "$tmp/c"
			fi
		done
		(cd "$tmp/repo" && completions sagesync rollback --to v) >"$tmp/c"
		if [ "$(cat "$tmp/c")" = v1.4 ]; then ok; else
			bad "completion of rollback --to v: not v1.4"
			show "$tmp/c"
		fi
		# outside a repository: nothing, and quietly
		completions sagesync plan --base "" >"$tmp/c" 2>"$tmp/err"
		if [ ! -s "$tmp/err" ]; then ok; else
			bad "completion of revisions outside Git: not quiet"
			show "$tmp/err"
		fi
	fi
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
