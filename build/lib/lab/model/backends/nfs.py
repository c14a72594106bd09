from lab.model.backends.base import SITE_UID, NodeExtras, SessionBackend
from lab.model.stores import NFS_EXPORT, NFS_MOUNT_PORT

NFS_SESSIONS_DIR = "/srv/nfs-sessions"


class Nfs(SessionBackend):
    name = "nfs"
    summary = "file sessions on an NFS export mounted by every node"
    survives_round_robin = True
    reason = "every node mounts the same export over the network"
    stores = ("nfs",)

    def settings(self, hosts, passwords=None):
        return {
            "SESSION_ENGINE": "django.contrib.sessions.backends.file",
            "SESSION_FILE_PATH": NFS_SESSIONS_DIR,
        }

    def node_extras(self, hosts, nfs_client):
        if nfs_client == "kernel":
            # The engine's host mounts the export as a volume of type nfs; the node needs nothing extra.
            return NodeExtras(nfs_mount_at=NFS_SESSIONS_DIR)
        # No kernel client: each node mounts the export itself through FUSE and libnfs, as root at start
        # (so whatever the host's /dev/fuse mode), then serves as the site's user. Ports go in the URL
        # because the node cannot ask the server's portmapper; uid/gid make every NFS call the site
        # user's, so the export squashes root.
        url = (
            f"nfs://{hosts['nfs']}{NFS_EXPORT}?nfsport=2049&mountport={NFS_MOUNT_PORT}&version=3"
            f"&uid={SITE_UID}&gid={SITE_UID}"
        )
        return NodeExtras(env={"LAB_NFS_URL": url}, role="node-fuse", devices=("/dev/fuse",), user="root")
