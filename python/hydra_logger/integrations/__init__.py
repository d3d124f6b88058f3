"""Framework integrations: Django, Flask, FastAPI/Starlette, Celery.

They share one field vocabulary (OpenTelemetry's names where they exist):
request_id, http.request.method, http.route, url.path,
http.response.status_code, duration_ms, client.address, user.id, task_id,
task_name, retries. Each module imports its framework only when used.
"""
