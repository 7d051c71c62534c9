"""The conformance runner and the reference implementation of CreateImage."""
