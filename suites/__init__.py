"""The conformance checks, one package per area (kernel, torch, hf, onnxruntime, ollama, docker)."""
