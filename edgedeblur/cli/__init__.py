"""edgedeblur.cli"""
