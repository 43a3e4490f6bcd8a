import { describe, expect, it } from "vitest";
import { cgroupMountPoints, removeCgroupParent } from "../../../agent/runtime/cgroup-parent";

// A hybrid machine's mountinfo: v1 controllers, a named hierarchy, the v2 tree, and things that aren't cgroups.
const HYBRID = [
  "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755",
  "32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu",
  "35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory",
  "40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd",
  "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw",
  "50 23 0:40 / /mnt/odd\\040dir rw - cgroup cgroup rw,pids",
  "60 23 8:1 / / rw,relatime - ext4 /dev/sda1 rw",
].join("\n");

describe("cgroup parent removal", () => {
  it("finds every cgroup and cgroup2 mount, unescaping mountinfo's octal escapes", () => {
    expect(cgroupMountPoints(HYBRID)).toEqual(["/sys/fs/cgroup/cpu", "/sys/fs/cgroup/memory", "/sys/fs/cgroup/systemd", "/sys/fs/cgroup/unified", "/mnt/odd dir"]);
  });

  it("refuses a parent that would name a whole hierarchy or climb out of it", async () => {
    for (const bad of ["", "/", ".", "..", "a/../..", "berth/../../etc"]) {
      await expect(removeCgroupParent(bad, HYBRID)).rejects.toThrow(/not a cgroup name/);
    }
  });
});
