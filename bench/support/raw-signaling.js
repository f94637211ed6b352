// Signals a bare RTCPeerConnection over a BroadcastChannel, for the benches'
// raw data-channel references: SDP and ICE candidates go out as they come, an
// offer is answered, and candidates wait until the remote description is set.
export function relayRawSignals(bc, role, pc, onError) {
  const pendingCandidates = [];
  let remoteSet = false;
  bc.onmessage = async ({ data }) => {
    if (!data || data.from === role) return;
    try {
      if (data.sdp) {
        await pc.setRemoteDescription(data.sdp);
        remoteSet = true;
        if (data.sdp.type === 'offer') {
          await pc.setLocalDescription(await pc.createAnswer());
          bc.postMessage({ from: role, sdp: pc.localDescription.toJSON() });
        }
        for (const c of pendingCandidates.splice(0)) await pc.addIceCandidate(c);
      } else if (data.candidate) {
        if (remoteSet) await pc.addIceCandidate(data.candidate);
        else pendingCandidates.push(data.candidate);
      }
    } catch (error) {
      onError(error);
    }
  };
  pc.onicecandidate = (event) => {
    if (event.candidate) bc.postMessage({ from: role, candidate: event.candidate.toJSON() });
  };
}
