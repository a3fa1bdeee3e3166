"""Merchant templates cannot exhaust the machine (issue 20, item 13): ranges, repetition,
padding, formatting, concatenation, output size and render time are bounded, and going
past a bound is a TemplateProblem naming the template and line, never a hang, a
traceback or gigabytes of memory."""

from __future__ import annotations

import pytest

from backorder.documents import templating
from backorder.documents.templating import TemplateProblem, document_environment, render_template

HOSTILE = {
    "nested ranges": "{% for i in range(100000) %}{% for j in range(100000) %}x"
    "{% endfor %}{% endfor %}",
    "range 10**9": "{{ range(10**9) }}",
    "nested small ranges": "{% for i in range(10000) %}{% for j in range(10000) %}"
    "{% endfor %}{% endfor %}",
    "repetition": "{{ 'x' * 1000000000 }}",
    "list repetition": "{{ [0] * 1000000000 }}",
    "power": "{{ 2 ** 100000 }}",
    "ljust": "{{ 'x'.ljust(10**9) }}",
    "center filter": "{{ 'x'|center(10**9) }}",
    "percent width": "{{ '%1000000000d' % 1 }}",
    "format filter width": "{{ '%*d'|format(1000000000, 1) }}",
    "str.format width": "{{ '{:1000000000}'.format(1) }}",
    "doubling": "{% set ns = namespace(s='x') %}{% for i in range(40) %}"
    "{% set ns.s = ns.s ~ ns.s %}{% endfor %}{{ ns.s|length }}",
    "join": "{{ (['x' * 99999] * 99999)|join }}",
    "str.join": "{{ ''.join(['x' * 99999] * 99999) }}",
    "replace": "{{ ('x' * 99999)|replace('x', 'y' * 99999) }}",
    "output": "{% for i in range(10000) %}{{ 'y' * 99999 }}{% endfor %}",
}


@pytest.mark.parametrize("case", HOSTILE)
def test_a_template_past_a_bound_is_a_template_problem(tmp_path, case):
    (tmp_path / "evil.html").write_text("<p>fine</p>\n" + HOSTILE[case] + "\n")
    env = document_environment([tmp_path])
    with pytest.raises(TemplateProblem) as caught:
        render_template(env, "evil.html", {})
    assert "refused (limit)" in str(caught.value)
    assert caught.value.template == str(tmp_path / "evil.html")
    # the output's size is counted outside the template: no line to name
    assert caught.value.line == (None if case == "output" else 2)


def test_a_render_past_its_time_limit_is_stopped(tmp_path, monkeypatch):
    monkeypatch.setattr(templating, "RENDER_SECONDS", 0.2)
    # 10,000 x 10,000 iterations over data (not range()): only the clock can stop it
    (tmp_path / "slow.html").write_text(
        "{% set l = [1] * 10000 %}\n{% for a in l %}{% for b in l %}{% endfor %}{% endfor %}"
    )
    with pytest.raises(TemplateProblem, match=r"slow.html line 2: refused \(limit\): rendering"):
        render_template(document_environment([tmp_path]), "slow.html", {})


def test_ordinary_templates_render_as_before(tmp_path):
    (tmp_path / "ok.html").write_text(
        "{% for i in range(3) %}{{ i }}{% endfor %} {{ 'a' ~ 'b' }} {{ [1, 2]|join(',') }} "
        "{{ 'abc'|replace('b', 'X') }} {{ '%05d'|format(42) }} {{ '{:>4}'.format('a') }} "
        "{{ '-' * 10 }} {{ 'x'|center(5) }}"
    )
    html = render_template(document_environment([tmp_path]), "ok.html", {})
    assert html == "012 ab 1,2 aXc 00042    a ---------- " + "  x  "
