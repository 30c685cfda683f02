"""Thin command functions: parse options, call sources and analyses, hand results to formats."""
