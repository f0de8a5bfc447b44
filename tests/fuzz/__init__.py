"""A DICOM fuzzer for the data layer: mutants of real files fed to discovery, loading and the
tag browser in persistent, resource-limited worker processes.

Run ``python -m tests.fuzz --count 10000 --seed 1`` (``make fuzz``); ``--replay RECIPE`` rebuilds
one mutant from its recipe (seed files + mutations + RNG seed) and runs it in this process.
"""
