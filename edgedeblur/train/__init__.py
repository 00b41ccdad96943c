"""edgedeblur.train"""
