"""Lets CompressAI's package be imported without its point-cloud and video modules' third-party libraries.

Imported for its effect (before `import compressai`) by benchmarks/pytorch/training_step.py and by
SoftRound.Tf.Tests/Fixtures/CompressAI/make_fixtures.py; put this folder on PYTHONPATH beside CompressAI's source.
"""
import importlib.abc
import importlib.machinery
import sys
import types

# CompressAI's package imports its point-cloud and video modules, whose third-party libraries (torch_geometric,
# pandas, ...) these fixtures never use: stand-ins let the import finish. Nothing here calls them.
OPTIONAL = {"torch_geometric", "pointops", "pytorch_msssim", "einops", "pandas", "plyfile", "pyntcloud", "open3d", "h5py"}


class _Placeholder(types.ModuleType):
    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        # A class whose instances, used as decorators, hand back what they decorate.
        return type(name, (), {"__init__": lambda self, *a, **k: None, "__call__": lambda self, *a, **k: a[0] if a else None})


class _Optional(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def find_spec(self, name, path, target=None):
        if name.split(".")[0] in OPTIONAL:
            return importlib.machinery.ModuleSpec(name, self, is_package=True)
        return None

    def create_module(self, spec):
        module = _Placeholder(spec.name)
        module.__path__ = []
        return module

    def exec_module(self, module):
        pass


sys.meta_path.insert(0, _Optional())
