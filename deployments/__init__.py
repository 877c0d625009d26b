"""Ray Serve wrappers: build_app(args) and the deployment classes. Logic lives in lmwebui."""
