"""Generated shell scripts: their fixed version must keep their behaviour in the three worlds.

2,000 examples by default, in 8 shards (IMDS_LINT_GENERATED=N for more); the figure for
the closing note comes from ``python -m tests.three_worlds_figures``, which
draws the same scripts from a seeded random source and counts instead of
stopping at the first failure.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.differential import Program
from tests.helpers import fix
from tests.shell_generator import draw_program

pytestmark = pytest.mark.slow

EXAMPLES = int(os.environ.get("IMDS_LINT_GENERATED", "2000"))
# The examples are drawn in shards so that pytest-xdist spreads them over the cores (one test of
# 2,000 examples was half the suite's time on one core); together they draw at least EXAMPLES.
SHARDS = 8
PER_SHARD = -(-EXAMPLES // SHARDS)


def fixed_program(program: Program) -> Program:
    siblings = tuple((name, fix(text, "shell")) for name, text in program.siblings)
    return program.with_texts(fix(program.text, "shell"), siblings)


@pytest.mark.parametrize("shard", range(SHARDS))
@settings(max_examples=PER_SHARD, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=st.data())
def test_generated_script_keeps_its_behaviour_after_the_fix(three_worlds, shard, data):
    program = draw_program(lambda options: data.draw(st.sampled_from(list(options))))
    fixed = fixed_program(program)
    verdict = three_worlds.compare(program, fixed, blackhole_cap=2.0)
    assert verdict.ok, "\n".join(verdict.problems() + ["original:", program.text, *[t for _, t in program.siblings],
                                                        "fixed:", fixed.text, *[t for _, t in fixed.siblings]])
