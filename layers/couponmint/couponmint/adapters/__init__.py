"""AWS access. Each adapter takes its boto3 client or resource as an argument; nothing else calls boto3."""
