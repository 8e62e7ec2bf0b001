// The SDK warns that its releases after January 2027 need Node 22; package-lock.json pins today's release.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
