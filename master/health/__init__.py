"""Health checks declared in pillar per role, run against a host (`lpmaster health`, drills).

    checks.py    parse `health: checks:` from pillar into HttpCheck / TcpCheck / CommandCheck
    probes.py    run http and tcp checks from the master's side
    run.py       run_checks(services, checks, target_id, address=None) -> HealthReport;
                 MasterHealthServices: pillar, address and command runner of a running master
"""
