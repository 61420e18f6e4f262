"""Shell completion: the scripts of ``kubeadm-py completion bash|zsh|fish`` and the hidden
``kubeadm-py __complete WORD... CURRENT`` they call on every <Tab>.

``__complete`` is answered before typer is imported (:mod:`kubeadm_py.cli.main`), from the
generated table :mod:`kubeadm_py.cli.completion_table` (commands, phase paths, options and the
fixed value sets of ``-o``, ``--ignore-preflight-errors`` and ``--kubernetes-version``), so a <Tab>
costs an interpreter start and one small module. It prints one candidate per line."""

from __future__ import annotations

from collections.abc import Sequence

SHELLS = ("bash", "zsh", "fish")
COMPLETE = "__complete"
# Options every command accepts besides its own (cli/argv.py: kubeadm's verbosity).
GLOBAL_VALUED = ("--v",)

_BASH = r"""# bash completion for kubeadm-py. Load it with:
#   source <(kubeadm-py completion bash)
# or save it as /etc/bash_completion.d/kubeadm-py.
_kubeadm_py_complete() {
    local cur="${COMP_WORDS[COMP_CWORD]}" IFS=$'\n'
    COMPREPLY=($("${COMP_WORDS[0]}" __complete "${COMP_WORDS[@]:1:COMP_CWORD-1}" "$cur" 2>/dev/null))
    if [[ ${#COMPREPLY[@]} -eq 1 && ${COMPREPLY[0]} == *= ]]; then
        compopt -o nospace 2>/dev/null
    fi
}
complete -o default -F _kubeadm_py_complete kubeadm-py
"""

_ZSH = r"""#compdef kubeadm-py
# zsh completion for kubeadm-py. Load it with (after compinit):
#   source <(kubeadm-py completion zsh)
# or save it as _kubeadm-py in a directory of $fpath.
_kubeadm_py() {
    local -a cands eq plain
    cands=("${(@f)$(${words[1]} __complete "${(@)words[2,CURRENT-1]}" "${words[CURRENT]}" 2>/dev/null)}")
    cands=(${cands:#})
    if (( ${#cands} == 0 )); then
        _files
        return
    fi
    eq=(${(M)cands:#*=})
    plain=(${cands:#*=})
    (( ${#plain} )) && compadd -Q -- "${plain[@]}"
    (( ${#eq} )) && compadd -Q -S '' -- "${eq[@]}"
    return 0
}
if (( $+functions[compdef] )); then
    compdef _kubeadm_py kubeadm-py
else
    print -u2 "kubeadm-py completion: run 'autoload -U compinit && compinit' first"
fi
"""

_FISH = r"""# fish completion for kubeadm-py. Load it with:
#   kubeadm-py completion fish | source
# or save it as ~/.config/fish/completions/kubeadm-py.fish.
function __kubeadm_py_complete
    set -l tokens (commandline -opc)
    set -l cur (commandline -ct)
    $tokens[1] __complete $tokens[2..-1] $cur 2>/dev/null
end
complete -c kubeadm-py -f -a '(__kubeadm_py_complete)'
"""

SCRIPTS = {"bash": _BASH, "zsh": _ZSH, "fish": _FISH}


def script(shell: str) -> str:
    from kubeadm_py.errors import KubeadmError

    if shell not in SCRIPTS:
        raise KubeadmError(f"unsupported shell {shell!r}", hint=f"use one of {', '.join(SHELLS)}")
    return SCRIPTS[shell]


def _rejoin(words: Sequence[str]) -> list[str]:
    """bash splits ``--output=json`` into ``--output``, ``=``, ``json`` (COMP_WORDBREAKS): join them."""
    out: list[str] = []
    for w in words:
        if out and (w == "=" or out[-1].endswith("=")) and out[-1].startswith("-"):
            out[-1] += w
        else:
            out.append(w)
    return out


def _options(path: str) -> dict[str, tuple[str, bool]]:
    """Every name of every option of ``path`` -> (its first name, takes a value)."""
    from kubeadm_py.cli.completion_table import TREE

    names: dict[str, tuple[str, bool]] = {o: (o, True) for o in GLOBAL_VALUED}
    for joined, valued in TREE[path][1]:
        first = joined.split("|")[0]
        for n in joined.split("|"):
            names[n] = (first, valued)
    return names


def _values(path: str, option: str, prefix: str) -> list[str]:
    from kubeadm_py.cli.completion_table import VALUES, VERSION_OUTPUT

    if option == "--output" and path == "version":
        values: Sequence[str] = VERSION_OUTPUT
    else:
        values = VALUES.get(option, ())
    head = ""
    if option == "--ignore-preflight-errors" and "," in prefix:  # a comma-separated list
        head, _, prefix = prefix.rpartition(",")
        head += ","
    return [head + v for v in values if v.startswith(prefix)]


def candidates(words: Sequence[str]) -> list[str]:
    """Completions of the last word of ``words`` (the words after the program name; the last one
    is being typed, possibly empty)."""
    from kubeadm_py.cli.completion_table import TREE

    *done, cur = list(words) or [""]
    bash_eq = cur == "=" and bool(done) and done[-1].startswith("-")  # bash: cursor right after '='
    done = _rejoin(done)
    path, expect_value = "", ""
    for w in done:
        options = _options(path)
        if expect_value:
            expect_value = ""
        elif w.startswith("-"):
            first, valued = options.get(w.split("=", 1)[0], (w, False))
            if valued and "=" not in w:
                expect_value = first
        elif w in TREE[path][0]:
            path = f"{path} {w}".strip()
    if bash_eq:
        first, valued = _options(path).get(done[-1], ("", False))
        return ["=" + v for v in _values(path, first, "")] if valued else []
    if done and done[-1].startswith("-") and done[-1].endswith("="):  # bash: the value after '='
        expect_value = _options(path).get(done[-1][:-1], ("", False))[0]
    if expect_value:
        return _values(path, expect_value, cur)
    if cur.startswith("-") and "=" in cur:  # zsh, fish: one word
        name, _, prefix = cur.partition("=")
        first, valued = _options(path).get(name, ("", False))
        return [f"{name}={v}" for v in _values(path, first, prefix)] if valued else []
    if cur.startswith("-"):
        return [n for n in _options(path) if n.startswith(cur) and n not in GLOBAL_VALUED]
    if path == "completion":
        return [s for s in SHELLS if s.startswith(cur)]
    return [c for c in TREE[path][0] if c.startswith(cur)]


def main(args: Sequence[str]) -> int:
    """``kubeadm-py __complete ...`` (args without ``__complete``), and the fast ``completion SHELL``."""
    import sys

    if args and args[0] == COMPLETE:
        found = candidates(args[1:])
        sys.stdout.write("".join(c + "\n" for c in found))
        return 0
    sys.stdout.write(script(args[1]))
    return 0


def fast(args: Sequence[str]) -> bool:
    """Whether :func:`main` answers ``args`` (``__complete ...`` or ``completion bash|zsh|fish``;
    typer answers ``completion --help`` and unknown shells)."""
    if not args:
        return False
    return args[0] == COMPLETE or (len(args) == 2 and args[0] == "completion" and args[1] in SHELLS)
