"""The ollama suite: does the LLM server put the model on the GPU, and how fast is it."""
