// Responses built by resources/common.ts reply(): they already carry the request id and microversion headers.
// The middleware leaves them alone, because touching `res.headers` on @hono/node-server's lightweight Response
// turns its plain header object into a Headers instance (a measurable share of a cached GET's cost).

export const preparedResponses = new WeakSet<Response>();
