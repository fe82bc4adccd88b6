"""Kernel side of GPU compute: amdgpu, KFD, TTM/GTT sizing, device nodes, HSA override."""
