"""Fixtures of the bridge client's tests.

The integration tests run hydra_bridge_app, named by the environment
variable HYDRA_BRIDGE_APP (ctest sets it); without it they are skipped. The
client's own tests (test_client_unit.py) need nothing."""
import os
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # hydra_bridge, without installing it
sys.path.insert(0, str(HERE))  # bridge_helpers

from bridge_helpers import App, make_config  # noqa: E402


@pytest.fixture(scope="session")
def app_exe():
    exe = os.environ.get("HYDRA_BRIDGE_APP", "")
    if not exe:
        pytest.skip("HYDRA_BRIDGE_APP is not set: it names the hydra_bridge_app "
                    "test program (build/tests/hydra_bridge_app); ctest sets it")
    if not (os.path.isfile(exe) and os.access(exe, os.X_OK)):
        pytest.fail(f"HYDRA_BRIDGE_APP={exe} is not an executable file (not built yet?)")
    return exe


@pytest.fixture
def start_app(app_exe, tmp_path):
    """start_app(bridge={...}, top={...}) -> App: writes the configuration
    (a bridge destination with `bridge`'s keys and a JSON file destination
    at <tmp>/app.jsonl on layer DEFAULT) and starts the app. At teardown the
    app is sent `quit` and must exit with status 0 within 10 s."""
    apps = []

    def start(bridge=None, top=None):
        workdir = tmp_path / f"app{len(apps)}"
        workdir.mkdir()
        config = make_config(workdir / "app.jsonl", bridge, top)
        app = App(app_exe, workdir, config)
        apps.append(app)
        return app

    yield start
    problems = []
    for app in apps:
        status = app.stop(10)
        if status != 0:
            what = ("did not exit within 10 s of `quit` (killed)" if status is None
                    else f"exited with status {status} after `quit`")
            problems.append(f"hydra_bridge_app {what}\n--- app stderr (tail) ---\n"
                            f"{app.stderr_text()}")
    if problems:
        pytest.fail("\n".join(problems))
