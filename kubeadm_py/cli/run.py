"""Running a workflow from the command line: options in, rendered report out."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

# Workflows whose commands refuse --config mixed with other flags, as kubeadm's (newInitData,
# newJoinData, newResetData call validation.ValidateMixedArguments on the command's flags; so do
# the RunE of newCmdApply and newCmdNode in cmd/kubeadm/app/cmd/upgrade/apply.go and node.go
# since the UpgradeConfiguration of v1beta4).
CONFIG_EXCLUSIVE = ("init", "join", "reset", "upgrade-apply", "upgrade-node")


def workflow_invoker(name: str) -> Callable[[dict[str, Any], list[str] | None], None]:
    def invoke(kwargs: dict[str, Any], only: list[str] | None) -> None:
        from kubeadm_py import api
        from kubeadm_py.cli.render import check_output_format, emit_report, make_reporter, print_summary
        from kubeadm_py.errors import PhaseError

        if name in CONFIG_EXCLUSIVE:
            from kubeadm_py.options import refuse_mixed_config

            refuse_mixed_config(kwargs)
        fmt = check_output_format(kwargs.pop("output", "text") or "text")
        kwargs.pop("verbose", None)
        machine = fmt != "text"
        reporter = make_reporter(stream=sys.stderr if machine else sys.stdout)
        try:
            report = api.run(name, phases=only, options=kwargs, reporter=reporter)
        except PhaseError as e:
            partial = getattr(e, "report", None)
            if machine and partial is not None:
                from kubeadm_py.cli.render import dump

                dump(partial.to_dict(), fmt)
            raise
        emit_report(report, fmt)
        if not machine and only is None:
            print_summary(report)
        if not machine:
            for line in report.outputs.get("messages", []):
                print(line)
        if report.would_stop is not None:
            from kubeadm_py.errors import WouldStopError

            raise WouldStopError(f"dry run: a real run stops at {report.would_stop}")

    return invoke
