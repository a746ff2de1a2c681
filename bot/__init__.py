"""The answering side of newsbot: retrieval chain, answerers, conversation, front ends."""
