from obs.cli import run

run()
