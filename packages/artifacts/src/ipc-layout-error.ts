/** A layout problem in an Arrow IPC file; readIpcFile turns it into an ArtifactError naming the file. */
export class IpcLayoutError extends Error {}
