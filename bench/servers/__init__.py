"""Baseline servers the receiver benchmark compares Switchboard with."""
