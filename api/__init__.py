"""The inspector web service: a FastAPI app, thin over video_audit (see create_app)."""
