"""Deterministic generator of dirty demo exports for microseg (see docs/data_contract.md).

``python -m microseg.generate --persons N --seed S --out DIR`` or, in Python,
``microseg.generate.generate(persons=..., seed=..., out=...)``.
"""

from .cli import main
from .config import GENERATOR_VERSION
from .run import generate

__all__ = ["main", "generate", "GENERATOR_VERSION"]
