"""The rules of legal referral: the status lifecycle, the choice of partner, the evidence file."""
