"""The simulated clinic that the demo, the tests and the benchmarks drive: a sandbox engine
with the clinic's generated config, simulated operators and patients, and an observer that
traces every call.  It sits with the commands (it may import everything); ``sandbox`` only
provisions engines.
"""
