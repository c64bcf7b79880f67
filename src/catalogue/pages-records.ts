/** Catalogue pages of the findings that rest on what AWS IoT recorded (field notes §7–8). */
import type { CodePage } from './types.js';

/** Written pages: DUPLICATE_CLIENT_ID. */
export const RECORD_PAGES: readonly CodePage[] = [
  {
    code: 'DUPLICATE_CLIENT_ID',
    family: 'Authorization',
    meaning:
      'Another client connects with the same client id. AWS IoT allows one connection per client id: each new CONNECT closes the older connection (MQTT 5: DISCONNECT 0x8E Session taken over; MQTT 3.1.1: the socket just closes), so two devices with one id keep knocking each other off.',
    decides:
      "With a user-given --client-id each MQTT route holds its session (--hold-ms, default 3000 ms) and reports MQTT_SESSION_TAKEN_OVER when it is closed while idle or with DISCONNECT 0x8E (likely). It is certain when AWS IoT recorded it: cloud.connectivity reads disconnectReason DUPLICATE_CLIENTID (GetThingConnectivityData), or cloud.logs finds a logged Disconnect with DUPLICATE_CLIENT_ID / SESSION_TAKEN_OVER for the run's client id. A probe CONNECT refused while AWS IoT logged it as THROTTLED is likely the same cause (the probe spaces its own CONNECTs 1 s apart per client id). With a takeover record, routes closed after SUBSCRIBE or PUBLISH are counted as the takeover, and the policy guesses they suggested are listed under Ruled out.",
    lookAlikes: [
      {
        code: 'POLICY_DENIES_PUBLISH',
        tell: 'a denied PUBLISH on MQTT 3.1.1 also closes the connection, but cloud.authorization denies it and no takeover is recorded',
      },
      {
        code: 'POLICY_DENIES_SUBSCRIBE',
        tell: 'same for SUBSCRIBE: the policy check denies the topic filter, while here TestAuthorization allows it',
      },
      {
        code: 'UNEXPLAINED_FAILURE',
        tell: 'a close with no record and no takeover during the hold; run again with --client-id and --hold-ms longer than the other client reconnects',
      },
    ],
    remedy: [
      'Find the other client: the AWS IoT logs show the source IP of every Connect with this client id; stop it or give it its own id.',
      'Give every device its own client id (the thing name is the usual choice) and never reuse it in tools or tests.',
      'Make AWS IoT enforce it: allow iot:Connect on client/${iot:Connection.Thing.ThingName} with the condition "Bool": {"iot:Connection.Thing.IsAttached": "true"}.',
    ],
    confirm: [
      'aws iot get-thing-connectivity-data --thing-name <thing>',
      'aws logs filter-log-events --log-group-name AWSIotLogsV2 --filter-pattern \'{ $.clientId = "<client id>" }\'',
      'aws iot start-on-demand-audit-task --target-check-names CONFLICTING_CLIENT_IDS_CHECK',
    ],
  },
];
