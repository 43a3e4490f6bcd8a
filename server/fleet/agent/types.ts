import "server-only";
// The parts of the Docker Engine API answers the console reads. The agent
// sends more; these are the fields we rely on.

export interface AgentVersion {
  Version: string;
  ApiVersion: string;
  Os?: string;
  Arch?: string;
  KernelVersion?: string;
}

export interface ContainerSummary {
  Id: string;
  Names: string[];
  Image: string;
  ImageID?: string;
  Command?: string;
  Created: number;
  State: string;
  Status: string;
  Ports?: { IP?: string; PrivatePort: number; PublicPort?: number; Type: string }[];
  Labels?: Record<string, string>;
}

export interface ContainerInspect {
  Id: string;
  Name: string;
  Created: string;
  Image: string;
  State: {
    Status: string;
    Running: boolean;
    Paused: boolean;
    Restarting?: boolean;
    OOMKilled?: boolean;
    Pid: number;
    ExitCode: number;
    Error?: string;
    StartedAt: string;
    FinishedAt: string;
    Health?: { Status: string; FailingStreak: number; Log?: { ExitCode: number; Output: string }[] | null };
  };
  RestartCount?: number;
  Config: { Image: string; Tty: boolean; Cmd?: string[] | null; Env?: string[] | null; Labels?: Record<string, string> | null };
  HostConfig: Record<string, unknown>;
  NetworkSettings?: Record<string, unknown>;
  Mounts?: unknown[];
}

export interface ImageSummary {
  Id: string;
  RepoTags: string[] | null;
  RepoDigests?: string[] | null;
  Created: number;
  Size: number;
}

export interface NetworkSummary {
  Id: string;
  Name: string;
  Driver: string;
  Scope?: string;
  IPAM?: unknown;
}

export interface VolumeSummary {
  Name: string;
  Driver: string;
  Mountpoint: string;
  CreatedAt?: string;
}

export interface AgentEvent {
  Type: string;
  Action: string;
  Actor: { ID: string; Attributes?: Record<string, string> };
  time: number;
  timeNano?: number;
}

export interface PullProgress {
  status?: string;
  id?: string;
  progress?: string;
  progressDetail?: { current?: number; total?: number };
  error?: string;
  errorDetail?: { message?: string };
}

export interface ContainerStats {
  read: string;
  cpu_stats: Record<string, unknown>;
  memory_stats: { usage?: number; limit?: number };
  networks?: Record<string, { rx_bytes: number; tx_bytes: number }>;
  pids_stats?: { current?: number };
}
