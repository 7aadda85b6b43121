"""`sqlfluff lint` with the same rules and findings for less CPU (docs/decisions.md, issue 11).

- One reflow sequence per file instead of one per layout rule: sqlfluff 4.4's
  layout rules LT01, LT02, LT05 and LT14 each rebuild the same ReflowSequence (a
  depth map of every raw segment) from the parsed file. Linting never changes the
  tree, and the sequence is immutable, so the last one built is reused while the
  same file is linted with the same config.
- That one build's depth map in one walk of the tree (_depth_map_from_parent).
- The rules' tree searches (recursive_crawl, SegmentSeekerCrawler.crawl) with an
  explicit stack instead of one generator per tree level, same order.
- The garbage collector at higher thresholds.
`make lint` only: `sqlfluff fix` rewrites the tree between rules and must not use this.
"""

import gc
import os
import sys

import sqlfluff
from sqlfluff.cli.commands import cli
from sqlfluff.core.parser.segments.base import BaseSegment
from sqlfluff.core.rules.crawlers import SegmentSeekerCrawler
from sqlfluff.utils.reflow.depthmap import DepthInfo, DepthMap, StackPosition
from sqlfluff.utils.reflow.sequence import ReflowSequence

# The patches rely on the signatures and code of sqlfluff 4.4.0 (and on ReflowSequence being immutable).
CHECKED_VERSION = "4.4.0"

_from_root = ReflowSequence.from_root.__func__
_last = [None, None, None]  # root segment, config, sequence


def _from_root_reused(cls, root_segment, config):
    root, cfg, sequence = _last
    if root is not root_segment or cfg is not config or cls is not ReflowSequence:
        sequence = _from_root(cls, root_segment, config)
        _last[:] = [root_segment, config, sequence]
    return sequence


def _position_type(idx: int, code_idxs: tuple[int, ...]) -> str:
    """StackPosition._stack_pos_interpreter of the path step (segment, idx)."""
    if not code_idxs:
        return ""
    if len(code_idxs) == 1:
        return "solo"
    if idx == code_idxs[0]:
        return "start"
    if idx == code_idxs[-1]:
        return "end"
    return ""


def _depth_map_from_parent(cls, parent):
    """DepthMap.from_parent in one walk down the tree.

    The original reads parent.raw_segments_with_ancestors, a cached list at every
    level of the tree that copies each raw's ancestor path once per level above it
    (raws x depth^2 list items), then builds every DepthInfo field in a Python loop.
    Here one walk keeps the path's hashes, class types and positions as lists and
    each raw's DepthInfo copies them in C: the same DepthInfo values
    (MICROSEG_LINT_CHECK_DEPTH_MAP=1 compares them with the original's).
    """
    depth_info = {}
    hashes: list[int] = []
    types: list[frozenset[str]] = []
    positions: list[StackPosition] = []
    # explicit stack of (segment, its hash, class types, child count, code indices, next child index)
    todo = [[parent, hash(parent), parent.class_types, len(parent.segments), parent._code_indices, 0]]
    hashes.append(todo[0][1])
    types.append(todo[0][2])
    positions.append(None)
    while todo:
        frame = todo[-1]
        seg, seg_hash, seg_types, count, code_idxs, idx = frame
        if idx == count:
            todo.pop()
            hashes.pop()
            types.pop()
            positions.pop()
            continue
        frame[5] = idx + 1
        positions[-1] = StackPosition(idx, count, _position_type(idx, code_idxs))
        child = seg.segments[idx]
        if child.is_type("raw"):
            stack_hashes = tuple(hashes)
            depth_info[child.uuid] = DepthInfo(
                stack_depth=len(stack_hashes),
                stack_hashes=stack_hashes,
                stack_hash_set=frozenset(stack_hashes),
                stack_class_types=tuple(types),
                stack_positions=dict(zip(stack_hashes, positions)),
            )
        else:
            child_hash = hash(child)
            todo.append([child, child_hash, child.class_types, len(child.segments), child._code_indices, 0])
            hashes.append(child_hash)
            types.append(child.class_types)
            positions.append(None)
    depth_map = cls.__new__(cls)
    depth_map.depth_info = depth_info
    if os.environ.get("MICROSEG_LINT_CHECK_DEPTH_MAP") == "1":
        reference = _depth_map_original(parent)
        assert reference.depth_info == depth_info, "depth maps differ"
    return depth_map


_depth_map_original = DepthMap.from_parent


def _recursive_crawl(self, *seg_type, recurse_into=True, no_recursive_seg_type=None, allow_self=True):
    """BaseSegment.recursive_crawl without a generator per tree level.

    The original yields each match up through one `yield from` per ancestor (the
    rendered feature marts nest deep); this walks the same tree in the same order
    with a stack of child iterators and yields each match once.
    """
    if isinstance(no_recursive_seg_type, str):
        no_recursive_seg_type = [no_recursive_seg_type]
    match = allow_self and self.is_type(*seg_type)
    if match:
        yield self
    if not self.descendant_type_set.intersection(seg_type) or not (recurse_into or not match):
        return
    stack = [iter(self.segments)]
    while stack:
        seg = next(stack[-1], None)
        if seg is None:
            stack.pop()
            continue
        if no_recursive_seg_type and seg.is_type(*no_recursive_seg_type):
            continue
        match = seg.is_type(*seg_type)
        if match:
            yield seg
        if seg.descendant_type_set.intersection(seg_type) and (recurse_into or not match):
            stack.append(iter(seg.segments))


def _seeker_crawl(self, context):
    """SegmentSeekerCrawler.crawl without a generator per tree level.

    The same visits in the same order, with the same in-place updates of ``context``
    (segment, parent_stack, segment_idx, raw_stack) at the same points, the
    recursion replaced by a stack of (children's parent stack, enumerated children).
    """
    stack = []
    while True:
        segment = context.segment
        if not self.passes_filter(segment):
            if self.provide_raw_stack:  # pragma: no cover
                context.raw_stack += tuple(segment.raw_segments)
        else:
            self_match = False
            if self.is_self_match(segment):
                self_match = True
                yield context
            if not context.segment.segments or (self_match and not self.allow_recurse):
                if self.provide_raw_stack:
                    context.raw_stack += (context.segment,)
            elif not self.types & context.segment.descendant_type_set:
                if self.provide_raw_stack:
                    context.raw_stack += tuple(context.segment.raw_segments)
            else:
                stack.append((context.parent_stack + (context.segment,), enumerate(context.segment.segments)))
        while stack:
            parent_stack, children = stack[-1]
            step = next(children, None)
            if step is None:
                stack.pop()
                continue
            context.segment = step[1]
            context.parent_stack = parent_stack
            context.segment_idx = step[0]
            break
        else:
            return


if __name__ == "__main__":
    if sys.argv[1:2] != ["lint"]:
        sys.exit("usage: python scripts/sqlfluff_lint.py lint [sqlfluff lint options] PATH...")
    if sqlfluff.__version__ != CHECKED_VERSION:
        sys.exit(f"scripts/sqlfluff_lint.py: checked on sqlfluff {CHECKED_VERSION}, found "
                 f"{sqlfluff.__version__}: recheck the patches before linting")
    ReflowSequence.from_root = classmethod(_from_root_reused)
    DepthMap.from_parent = classmethod(_depth_map_from_parent)
    BaseSegment.recursive_crawl = _recursive_crawl
    SegmentSeekerCrawler.crawl = _seeker_crawl
    # Parsing and linting allocate millions of short-lived objects; at the default thresholds (700, 10, 10)
    # the cyclic collector keeps walking the live parse trees (13% of the CPU of the six largest files).
    gc.set_threshold(50_000, 50, 1000)
    cli()
