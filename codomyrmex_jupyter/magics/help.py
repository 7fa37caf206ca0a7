"""Plain-text help of the magics: ``%%workflow?``, ``%orchestrate?``, ``SUB --help``.

IPython's ``magic_arguments`` formats help as reStructuredText (a leading
``::`` and an indented usage block). A notebook shows it as plain text, so
here the usage is put on one line, the ``::`` goes, and every command gets an
example that runs as written.
"""

from __future__ import annotations

import argparse
import textwrap
from collections.abc import Mapping

from .arguments import usage_text

__all__ = ["EXAMPLES", "WORKFLOW_GUIDE", "command_help", "plain_help"]

WORKFLOW_GUIDE = """\
Function mode (the default): every top-level function of the cell is a step,
named after the function. A parameter named after another step is a dependency
and receives that step's result; any other parameter is a run parameter (set it
with -p NAME=VALUE) or keeps its default. A parameter close to a step's name
(a typo such as 'laod' for 'load') is an error. @step(timeout=..., retries=...,
resources={...}, cache=True, priority=...) sets a step's options (cache=True:
reuse the step's result while its code, parameters and inputs are unchanged;
--cache does it for every step of the cell; priority: an int, higher starts
sooner); functions starting with _ are helpers.

--yaml: the cell is a YAML (or JSON) list of steps, each a mapping with name,
module, action and optionally parameters, dependencies, timeout, max_retries,
resources, cache and priority.

Running the cell defines the workflow (a new version if the name exists), saves
it in the store and draws its graph; --run also runs it, with the run options."""

EXAMPLES: Mapping[str, str] = {
    "workflow": """\
%%workflow etl --run -p n=100
def load(n: int = 10):
    return list(range(n))

def clean(load):                 # depends on load, receives its result
    return [x for x in load if x % 3]

def report(clean):
    return f"{len(clean)} rows"

# another cell: a declarative spec of built-in actions
%%workflow checks --yaml
- {name: env, module: environment_setup, action: check_environment}
- {name: quality, module: static_analysis, action: analyze_code_quality,
   parameters: {path: .}, dependencies: [env]}""",
    "orchestrate run": """\
ex = %orchestrate run etl -p n=100 --timeout 60
h = %orchestrate run etl --background        # h.cancel(), h.result(), await h
ex = %orchestrate run etl --cache            # unchanged steps come from the step cache""",
    "orchestrate list": "%orchestrate list",
    "orchestrate dag": "%orchestrate dag etl",
    "orchestrate show": "%orchestrate show 1a2b3c4d",
    "orchestrate history": "%orchestrate history etl -n 5",
    "orchestrate cancel": "%orchestrate cancel 1a2b3c4d",
    "orchestrate status": "%orchestrate status",
    "orchestrate resources": "%orchestrate resources",
    "orchestrate tasks": "%orchestrate tasks",
    "orchestrate projects": "%orchestrate projects",
    "orchestrate sessions": "%orchestrate sessions",
    "orchestrate dashboard": "%orchestrate dashboard",
    "orchestrate config": """\
%orchestrate config                  # the store in use and why, the loop mode
%orchestrate config --loop nested    # run blocking runs on the kernel's own loop
%orchestrate config --cache-max-bytes 5GiB   # bound the step cache (kept for later kernels)
%orchestrate config --history-limit 100   # keep the newest 100 runs of each workflow""",
    "orchestrate export": """\
%orchestrate export etl etl_flow.py  # then: codomyrmex-jupyter run etl --import etl_flow""",
    "orchestrate init": """\
%orchestrate init                    # a .codomyrmex/ store for this folder and below""",
    "orchestrate why": """\
%orchestrate why etl                 # per step: from the cache, or what changed (code diff, parameter)
%orchestrate why etl train -p n=200  # one step, for a run with other parameters""",
    "orchestrate diff": """\
%orchestrate diff 1a2b3c4d 5e6f7a8b  # steps, code, parameters, states, results, environment""",
    "orchestrate rerun": """\
%orchestrate rerun 1a2b3c4d                # the same definition version and parameters
%orchestrate rerun 1a2b3c4d --from-failed  # keep what succeeded, run the rest with today's code""",
    "orchestrate load": """\
%orchestrate load 1a2b3c4d train     # the inputs train received, as variables and in inputs""",
    "orchestrate debug": """\
%orchestrate debug 1a2b3c4d train          # post-mortem where train failed
%orchestrate debug 1a2b3c4d train --rerun  # call it again with its inputs, under the debugger""",
    "orchestrate cache": """\
%orchestrate cache                   # entries, size and hit rate per workflow
%orchestrate cache clear etl         # remove etl's entries (no name: every entry)""",
}


def _options(parser: argparse.ArgumentParser) -> str:
    """The argparse sections after the usage and description (positionals, options)."""
    full = parser.format_help().removeprefix("::")
    for marker in ("positional arguments:", "options:", "optional arguments:"):
        at = full.find(marker)
        if at >= 0:
            return full[at:].rstrip()
    return ""


def plain_help(parser: argparse.ArgumentParser, key: str, guide: str = "") -> str:
    """Complete plain-text help of one command: usage, what it does, options, example."""
    description = (parser.description or "").strip()
    parts = [f"Usage: {usage_text(parser)}", description]
    if guide:
        parts.append(guide)
    options = _options(parser)
    if options:
        parts.append(options)
    example = EXAMPLES.get(key)
    if example:
        parts.append("Example:\n" + textwrap.indent(example, "  "))
    return "\n\n".join(p for p in parts if p) + "\n"


def command_help(parsers: Mapping[str, argparse.ArgumentParser]) -> str:
    """``%orchestrate?``: every subcommand with its usage, what it does and an example."""
    lines = [
        "%orchestrate SUBCOMMAND [options]: run and inspect workflows.",
        "%orchestrate SUBCOMMAND --help shows one subcommand in full.",
        "",
    ]
    for name, parser in parsers.items():
        summary = (parser.description or "").strip().splitlines()[0]
        lines.append(f"  {usage_text(parser)}")
        lines.append(f"      {summary}")
        example = EXAMPLES.get(f"orchestrate {name}", "").splitlines()
        if example:
            lines.append(f"      e.g. {example[0]}")
    return "\n".join(lines) + "\n"
