"""edgedeblur.export"""
