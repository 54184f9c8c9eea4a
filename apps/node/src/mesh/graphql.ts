import { createSchema } from 'graphql-yoga';
import { MeshFailure, type MeshService } from './service';

/** Spec 001 phases 6 and 11, served on the owner's listener only. Device language; no token values. */
const typeDefs = /* GraphQL */ `
  enum DeviceStatus { AVAILABLE OFFLINE NEEDS_REPAIR }
  type Device {
    id: ID!
    name: String!
    kind: String!
    status: DeviceStatus!
    "What the device can do, in words (Can store media, Always on, ...)"
    capabilities: [String!]!
    lastSeen: String
    needsRepair: Boolean!
    canStoreMedia: Boolean!
    canProcessVideo: Boolean!
    isAlwaysOn: Boolean!
    canReceiveFiles: Boolean!
  }
  type IssuedToken { nodeId: ID! permissions: [String!]! createdAt: String! expiresAt: String! lastUsedAt: String revoked: Boolean! }
  type PeerToken { nodeId: ID! permissions: [String!]! expiresAt: String! }
  type DiscoveryResult { checked: Int! reachable: Int! devices: [Device!]! }
  type PairingOffer { code: String! pin: String! url: String! qrCodeUrl: String! expiresAt: String! }
  type NodeIdentity { id: ID! name: String! createdAt: String! }
  type Query {
    identity: NodeIdentity!
    devices: [Device!]!
    capableNodes(capability: String!): [Device!]!
    reachableNodes: [Device!]!
    issuedTokens: [IssuedToken!]!
    peerTokens: [PeerToken!]!
  }
  type Mutation {
    revokeToken(nodeId: ID!): Boolean!
    removeDevice(id: ID!): Boolean!
    "Spec 001 calls it removeNode too."
    removeNode(id: ID!): Boolean!
    repairDevice(id: ID!): PairingOffer!
    addDevice: PairingOffer!
    discoverNodes: DiscoveryResult!
  }
`;

export function meshSchema(service: MeshService) {
  const offer = async (repairFor: string | null) => {
    const o = await service.startPairing(repairFor);
    return { code: o.code, pin: o.pin, url: o.url, qrCodeUrl: o.qrSvgDataUrl, expiresAt: o.expiresAt };
  };
  return createSchema({
    typeDefs,
    resolvers: {
      Query: {
        identity: () => ({ ...service.identity, createdAt: service.identity.created_at }),
        devices: () => service.devices(),
        capableNodes: (_: unknown, a: { capability: string }) => service.capableNodes(a.capability),
        reachableNodes: () => service.reachableNodes(),
        issuedTokens: () => service.issuedTokens(),
        peerTokens: () => service.peerTokens(),
      },
      Mutation: {
        revokeToken: (_: unknown, a: { nodeId: string }) => service.revokeToken(a.nodeId),
        removeDevice: (_: unknown, a: { id: string }) => service.removeDevice(a.id),
        removeNode: (_: unknown, a: { id: string }) => service.removeDevice(a.id),
        repairDevice: (_: unknown, a: { id: string }) => {
          if (!service.device(a.id))
            throw new MeshFailure('MESH_DEVICE_UNKNOWN', {}, 'repair: no such device');
          return offer(a.id);
        },
        addDevice: () => offer(null),
        discoverNodes: async () => ({ ...(await service.discover()), devices: service.devices() }),
      },
    },
  });
}
