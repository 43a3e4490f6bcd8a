import "server-only";
import { headers } from "next/headers";
import NextAuth, { CredentialsSignin } from "next-auth";
import Credentials from "next-auth/providers/credentials";
import { z } from "zod";
import { writeAudit } from "../audit/write";
import { db } from "../db";
import { env } from "../env";
import { sameOriginPath } from "../http/same-origin";
import { requestMetaFrom } from "./request-meta";
import { endSession } from "./sessions";
import { signInWithPassword } from "./sign-in";

export class InvalidCredentials extends CredentialsSignin {
  code = "invalid";
}
export class AccountDisabled extends CredentialsSignin {
  code = "disabled";
}
export class LockedOut extends CredentialsSignin {
  code = "locked";
  retryAfterSeconds = 0;
}

const credentialsSchema = z.object({
  email: z.string().trim().min(1).max(320),
  password: z.string().min(1).max(1024),
});

declare module "next-auth" {
  interface User {
    sid?: string;
  }
}

export const { handlers, auth, signIn, signOut } = NextAuth({
  trustHost: true,
  session: { strategy: "jwt", maxAge: env().BERTH_SESSION_HOURS * 3600 },
  pages: { signIn: "/sign-in", error: "/sign-in" },
  providers: [
    Credentials({
      credentials: { email: { label: "Email", type: "email" }, password: { label: "Password", type: "password" } },
      async authorize(raw, request) {
        const parsed = credentialsSchema.safeParse(raw);
        if (!parsed.success) throw new InvalidCredentials();
        const result = await signInWithPassword(db(), {
          ...parsed.data,
          meta: requestMetaFrom(request.headers),
          sessionHours: env().BERTH_SESSION_HOURS,
        });
        if (result.ok) return { id: result.user.id, email: result.user.email, name: result.user.name, sid: result.sessionToken };
        if (result.reason === "locked") {
          const error = new LockedOut();
          error.retryAfterSeconds = result.retryAfterSeconds;
          throw error;
        }
        throw result.reason === "disabled" ? new AccountDisabled() : new InvalidCredentials();
      },
    }),
  ],
  callbacks: {
    // Auth.js's own redirects (its callbackUrl) follow the sign-in form's rule: a plain path on this console.
    redirect({ url, baseUrl }) {
      const origin = new URL(baseUrl).origin;
      let candidate = url;
      try {
        const absolute = new URL(url);
        if (absolute.origin === origin) candidate = `${absolute.pathname}${absolute.search}${absolute.hash}`;
      } catch {
        // Not absolute: judged as a path.
      }
      return `${origin}${sameOriginPath(candidate, origin) ?? "/"}`;
    },
    jwt({ token, user }) {
      if (user?.sid) token.sid = user.sid;
      return token;
    },
    session({ session, token }) {
      // The session id stays server-side; pages use the viewer from server/auth/viewer.ts.
      return { ...session, sid: typeof token.sid === "string" ? token.sid : undefined };
    },
  },
  events: {
    async signOut(message) {
      const sid = "token" in message && typeof message.token?.sid === "string" ? message.token.sid : null;
      if (!sid) return;
      const ended = await endSession(db(), sid);
      if (!ended) return;
      await writeAudit(db(), {
        actor: { type: "user", id: ended.userId, label: ended.email },
        action: "auth.sign_out",
        outcome: "success",
        target: { type: "user", id: ended.userId },
        request: requestMetaFrom(await headers()),
      });
    },
  },
});
