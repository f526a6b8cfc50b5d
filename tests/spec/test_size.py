"""Specs and imports the size of a large platform: read whole, and every problem located in them as in a small one."""
from __future__ import annotations

from pathlib import Path

import pytest

from obs.cli import main
from obs.project import load_text
from obs.spec import loader


def block_style(services: int) -> str:
    """A platform's services written out in block style, as the repository's obs.yaml writes its own: descriptions,
    comments, three SLOs each with their runbooks."""
    lines = ["version: obs/v1", "project: platform", "services:"]
    for i in range(services):
        name = f"service-{i:05d}"
        lines += [f"  - name: {name}", f"    team: team-{i % 25}",
                  f"    description: The {name} of team-{i % 25}; pages go to its on-call rota.",
                  "    http: true                 # emits http.server.request.duration (OTel semconv)", "    slos:"]
        for slo, sli in (("availability", "availability: {}"), ("latency", "latency: {threshold: 500ms}"),
                         ("errors", f"events: {{error_query: 'sum(rate(jobs_total{{service_name=\"{name}\","
                                    f"outcome=\"failure\"}}[{{{{window}}}}]))', total_query: 'sum(rate(jobs_total"
                                    f"{{service_name=\"{name}\"}}[{{{{window}}}}]))'}}")):
            lines += [f"      - name: {slo}", f"        description: The {slo} of {name}, as its users see it.",
                      "        objective: 99.9        # percent of good events", "        window: 30d",
                      f"        sli: {{{sli}}}", "        alerting:",
                      f"          runbook_url: https://runbooks.example.com/{name}/{slo}"]
    return "\n".join(lines) + "\n"


def test_a_thousand_services_written_out_in_full_are_read_though_they_take_over_a_mebibyte() -> None:
    # The spec obs's scale goals are about. Before, obs read a mebibyte at most and refused this one.
    text = block_style(1000)
    assert len(text.encode()) > 1 << 20
    model = load_text(text, "obs.yaml")
    assert len(model.services) == 1000 and sum(len(s.slos) for s in model.services) == 3000


def test_every_problem_of_a_large_spec_is_located_at_its_own_line(tmp_path: Path, capsys) -> None:
    lines = block_style(1000).replace("objective: 99.9 ", "objective: 120  ").splitlines()
    last = len(lines) - lines[::-1].index("        objective: 120         # percent of good events")
    (tmp_path / "obs.yaml").write_text("\n".join(lines) + "\n")
    assert main(["validate", str(tmp_path / "obs.yaml")]) == 2
    said = capsys.readouterr().err.splitlines()
    assert len(said) == 3000   # every problem at once
    assert said[-1].startswith(f"{tmp_path / 'obs.yaml'}:{last}:9: services[999].slos[2].objective: must be above 0")


def test_a_sloth_file_of_a_thousand_documents_imports_with_a_problem_in_the_last_located_in_it(
        tmp_path: Path, capsys) -> None:
    doc = ('version: "prometheus/v1"\nservice: "service-{i}"\nslos:\n  - name: "requests-availability"\n'
           "    objective: {objective}\n    sli:\n      events:\n"
           '        error_query: sum(rate(http_requests_total{{job="service-{i}",code=~"5.."}}[{{{{.window}}}}]))\n'
           '        total_query: sum(rate(http_requests_total{{job="service-{i}"}}[{{{{.window}}}}]))\n'
           "    alerting:\n      name: HighErrorRate\n      page_alert: {{disable: true}}\n"
           "      ticket_alert: {{disable: true}}\n")
    docs = [doc.format(i=i, objective=99.9) for i in range(1000)]
    sloth = tmp_path / "slos.yml"
    sloth.write_text("---\n".join(docs))
    assert main(["import", "sloth", str(sloth), "--format", "json"]) == 0
    assert '"service-999"' in capsys.readouterr().out
    docs[-1] = doc.format(i=999, objective=120)
    sloth.write_text("---\n".join(docs))
    assert main(["import", "sloth", str(sloth)]) == 2
    line = "---\n".join(docs).splitlines().index("    objective: 120") + 1
    assert f"{sloth}:{line}:" in capsys.readouterr().err


def test_the_most_obs_reads_is_said_with_the_number_of_services_it_holds() -> None:
    per_service = len(block_style(100).encode()) / 100
    assert 13_000 < loader.MAX_BYTES / per_service < 15_000   # "some 14,000 services written out in full"
    assert "some 14,000 services" in loader.TOO_LARGE


@pytest.mark.parametrize("kind", ["sloth", "openslo"])
def test_an_endless_device_given_to_import_is_refused_after_the_most_obs_reads(capsys, kind: str) -> None:
    # The file was read whole: /dev/zero never ended.
    assert main(["import", kind, "/dev/zero"]) == 2
    assert capsys.readouterr().err.splitlines()[-1] == f"/dev/zero:1:1: the file {loader.TOO_LARGE}"
