"""The Epistemix dialect: the FRED platform's HTTP API over simdock's use cases."""
