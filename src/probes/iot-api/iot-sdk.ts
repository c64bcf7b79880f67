/**
 * The part of `@aws-sdk/client-iot` the cloud checks use: the client and one `<Operation>Command` per IoT operation of
 * `IOT_API_PERMISSIONS` (types.ts). Imported by name, not as the whole package, so that the CLI's bundle
 * (src/build/bundle.mjs) compiles in only these commands and their serializers: loading the full client (every IoT
 * command) cost the API worker most of its start (issue 16: the cloud checks' cost with credentials). A new operation
 * is one more name here; the type check below fails until it is added.
 */
export {
  DescribeAuthorizerCommand,
  DescribeCACertificateCommand,
  DescribeCertificateCommand,
  DescribeDefaultAuthorizerCommand,
  DescribeEndpointCommand,
  DescribeRoleAliasCommand,
  DescribeThingCommand,
  GetEffectivePoliciesCommand,
  GetPolicyCommand,
  GetThingConnectivityDataCommand,
  GetV2LoggingOptionsCommand,
  IoTClient,
  ListAttachedPoliciesCommand,
  ListPrincipalThingsCommand,
  ListThingGroupsForThingCommand,
  TestAuthorizationCommand,
  TestInvokeAuthorizerCommand,
} from '@aws-sdk/client-iot';
