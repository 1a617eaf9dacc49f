"""Loads single module files from exported reference trees without their packages' heavy imports.

OpenCompass's package __init__ pulls in torch, transformers, mmengine and more, and Hugging Face
evaluate's metric scripts need the `evaluate` and `datasets` packages. None of that is needed by the
functions the reference scripts call, so each module file is executed on its own with the names it
imports replaced by inert stubs (the registry decorators return the function unchanged; base classes
are empty). Only imports are stubbed: the functions called are the published code, unmodified.
"""
import importlib.util
import sys
import types


class _StubMeta(type):
    def __getattr__(cls, name):
        return Stub


class Stub(metaclass=_StubMeta):
    """Any attribute is a Stub; calling it returns a Stub; it can be subclassed; register_module decorates as identity."""

    def __init__(self, *args, **kwargs):
        pass

    def __call__(self, *args, **kwargs):
        return Stub()

    def __getattr__(self, name):
        return Stub

    @staticmethod
    def register_module(*args, **kwargs):
        if args and callable(args[0]) and not isinstance(args[0], str):
            return args[0]
        return lambda target: target


class _StubModule(types.ModuleType):
    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        return Stub


def stub_modules(*names):
    """Registers empty stand-ins for the named modules (and their parents) unless really importable ones are wanted."""
    for name in names:
        parts = name.split(".")
        for i in range(1, len(parts) + 1):
            full = ".".join(parts[:i])
            if full not in sys.modules:
                module = _StubModule(full)
                module.__path__ = []  # a package, so that submodules can be stubbed too
                sys.modules[full] = module


def load_file(path, module_name):
    """Executes one module file as `module_name` (its package must exist in sys.modules for relative imports)."""
    spec = importlib.util.spec_from_file_location(module_name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    return module

