"""The FastAPI app test_asgi_integration serves with a real uvicorn.

Logs to HYDRA_TEST_UVICORN_LOG; HYDRA_TEST_REPLACE_ACCESS=1 passes
replace_uvicorn_access=True to the middleware.
"""

from __future__ import annotations

import os

from fastapi import FastAPI

import hydra_logger
from hydra_logger.integrations.fastapi import setup_fastapi

log = hydra_logger.HydraLogger({"layers": {"APP": {"level": "DEBUG", "destinations": [
    {"type": "file", "path": os.environ["HYDRA_TEST_UVICORN_LOG"], "format": "json-lines"}]}}})

app = FastAPI()
setup_fastapi(app, logger=log,
              replace_uvicorn_access=os.environ.get("HYDRA_TEST_REPLACE_ACCESS") == "1")


@app.get("/items/{item_id}")
def item(item_id: int):
    log.info("item endpoint", item=item_id)
    return {"item": item_id}
