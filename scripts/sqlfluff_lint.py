"""`sqlfluff lint` with one reflow sequence per file instead of one per layout rule.

sqlfluff 4.4's layout rules LT01, LT02, LT05 and LT14 each rebuild the same
ReflowSequence (a depth map of every raw segment) from the parsed file: about
half of the lint CPU on this project's large rendered models. Linting never
changes the tree, and the sequence is immutable, so the last one built is
reused while the same file is linted with the same config. `make lint` only:
`sqlfluff fix` rewrites the tree between rules and must not use this.
"""

import sys

import sqlfluff
from sqlfluff.cli.commands import cli
from sqlfluff.utils.reflow.sequence import ReflowSequence

# The patch relies on from_root's signature and on ReflowSequence being immutable in 4.4.
CHECKED_VERSION = "4.4.0"

_from_root = ReflowSequence.from_root.__func__
_last = [None, None, None]  # root segment, config, sequence


def _from_root_reused(cls, root_segment, config):
    root, cfg, sequence = _last
    if root is not root_segment or cfg is not config or cls is not ReflowSequence:
        sequence = _from_root(cls, root_segment, config)
        _last[:] = [root_segment, config, sequence]
    return sequence


if __name__ == "__main__":
    if sys.argv[1:2] != ["lint"]:
        sys.exit("usage: python scripts/sqlfluff_lint.py lint [sqlfluff lint options] PATH...")
    if sqlfluff.__version__ != CHECKED_VERSION:
        sys.exit(f"scripts/sqlfluff_lint.py: checked on sqlfluff {CHECKED_VERSION}, found "
                 f"{sqlfluff.__version__}: recheck the reflow patch before linting")
    ReflowSequence.from_root = classmethod(_from_root_reused)
    cli()
