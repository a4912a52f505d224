# Python helpers imported by imports_utils.ks.

def default_mtu():
    return 1500
