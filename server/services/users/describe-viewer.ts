import "server-only";
import { heldPermissions, isOwner, type Viewer } from "../../auth/access";

/** Who is signed in, and what they may do somewhere: for the console to shape itself (the server checks every call again). */
export function describeViewer(viewer: Viewer) {
  return {
    id: viewer.user.id,
    email: viewer.user.email,
    name: viewer.user.name,
    owner: isOwner(viewer),
    permissions: heldPermissions(viewer),
  };
}
