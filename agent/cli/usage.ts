export const USAGE = `Usage: berth-agent COMMAND [OPTIONS]

Commands:
  serve [--root DIR] [--socket PATH]     run the agent: the Docker Engine API on PATH
        [--exec-root DIR] [--cgroup-parent NAME]
        [--bridge NAME] [--bridge-subnet CIDR] [--network-pool CIDR]
                                          (defaults /var/lib/berth, /run/berth/agent.sock, /run/berth, berth,
                                           berth0, 172.29.0.0/16, 172.30.0.0/16)
  pull IMAGE [--platform os/arch]         pull an image from its registry
  images                                  list images
  inspect IMAGE                           show an image's details as JSON
  rmi [-f] IMAGE...                       remove images
  tag SOURCE TARGET                       tag an image
  save [-o FILE] IMAGE...                 write images to a tar archive (stdout without -o)
  load [-i FILE]                          load images from a docker-save or OCI-layout tar (stdin without -i)
  push IMAGE                              push a tagged image
  build [-t TAG]... [--file F] [--build-arg K=V]... [--no-cache] DIR
                                          build a Dockerfile from a local directory (no serve on this root)
  teardown [--root DIR] [--exec-root DIR] [--bridge NAME] [--cgroup-parent NAME]
                                          remove every container, the bridges, the nftables table and the
                                          cgroup parent (volumes and images stay); run with the agent stopped
  dial-stdio [--socket PATH]              relay stdin/stdout to the agent's socket (for SSH exec channels)
  version                                 print version information

Common options:
  --root DIR                 agent state directory (default /var/lib/berth)
  --insecure-registry HOST   use plain HTTP for HOST (loopback registries always do); repeatable
  --allow-local-registry HOST:PORT
                             let this registry be on a loopback, link-local or unspecified address (refused
                             otherwise, however its name resolves); repeatable
  --username USER, --password-stdin, --password PASS   registry credentials (pull, push)
  --json                     machine-readable output (progress as JSON lines)
`;
