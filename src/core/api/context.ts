// What every API request carries through the middleware chain (hono context variables).

export interface ApiVersion {
  major: number;
  minor: number;
}
export const versionString = (v: ApiVersion) => `${v.major}.${v.minor}`;
export const atLeast = (v: ApiVersion, major: number, minor: number) => v.major > major || (v.major === major && v.minor >= minor);

/** Who is calling, as Masakari's RequestContext holds it. */
export interface CallerContext {
  userId: string | null;
  projectId: string | null;
  roles: string[];
  /** Masakari's is_admin: noauth2 callers always; keystone callers when the context_is_admin rule passes. */
  isAdmin: boolean;
}

export type ApiEnv = {
  Variables: {
    requestId: string;
    /** The negotiated microversion; unset until the microversion middleware ran (then errors carry no version header). */
    version: ApiVersion | undefined;
    caller: CallerContext;
    /** Raw request body (read once, size-limited); empty when there is none. */
    rawBody: Uint8Array;
  };
};
