"""The CI examples in packaging/ci parse as YAML and publish the JUnit file that the drift command writes."""
from __future__ import annotations

from pathlib import Path

import yaml

CI = Path(__file__).resolve().parents[2] / "packaging" / "ci"


def test_github_workflow_runs_drift_and_publishes_junit_always():
    flow = yaml.safe_load((CI / "github-drift.yml").read_text())
    steps = flow["jobs"]["drift"]["steps"]
    run = next(s["run"] for s in steps if s.get("id") == "drift")
    assert "drift --refresh" in run and "--junit" in run and "> report.xml" in run
    publish = [s for s in steps if "junit" in s.get("uses", "")]
    assert publish and publish[0]["if"] == "always()" and publish[0]["with"]["report_paths"] == "report.xml"


def test_gitlab_job_runs_drift_and_uploads_junit_always():
    job = yaml.safe_load((CI / "gitlab-drift.yml").read_text())["drift-report"]
    assert any("drift --refresh" in line and "--junit" in line for line in job["script"])
    assert job["artifacts"]["when"] == "always" and job["artifacts"]["reports"]["junit"] == "report.xml"
