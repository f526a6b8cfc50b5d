"""obs's tests, a package so every module imports its helpers one way: `from tests.support.x import ...`."""
