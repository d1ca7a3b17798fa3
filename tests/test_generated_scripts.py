"""Generated shell scripts: their fixed version must keep their behaviour in the three worlds.

2,000 examples by default (IMDS_LINT_GENERATED=N for more); the figure for
the closing note comes from ``python -m tests.three_worlds_figures``, which
draws the same scripts from a seeded random source and counts instead of
stopping at the first failure.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from imds_lint.model import Applicability
from tests.differential import Program
from tests.helpers import fix
from tests.shell_generator import draw_program

pytestmark = pytest.mark.slow

EXAMPLES = int(os.environ.get("IMDS_LINT_GENERATED", "2000"))


def fixed_program(program: Program) -> Program:
    siblings = tuple((name, fix(text, "shell")) for name, text in program.siblings)
    return program.with_texts(fix(program.text, "shell"), siblings)


@pytest.mark.xfail(reason="the fixers keep behaviour in 66 of 200 generated scripts (issue 16)", run=False)
@settings(max_examples=EXAMPLES, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.data())
def test_generated_script_keeps_its_behaviour_after_the_fix(three_worlds, data):
    program = draw_program(lambda options: data.draw(st.sampled_from(list(options))))
    fixed = fixed_program(program)
    verdict = three_worlds.compare(program, fixed, blackhole_cap=2.0)
    assert verdict.ok, "\n".join(verdict.problems() + ["original:", program.text, *[t for _, t in program.siblings],
                                                        "fixed:", fixed.text, *[t for _, t in fixed.siblings]])
