// The file being transcribed on Transcribir, kept above the screens: its upload, job and live
// stream go on when the user opens another screen, and coming back (Back) shows them again.
import { createContext, useContext, useState, type ReactNode } from "react";
import { defaultChoices, type TranscribeChoices } from "../api/upload";
import { useTranscription } from "./useTranscription";

interface CurrentJob {
  transcription: ReturnType<typeof useTranscription>;
  file: File | null;
  setFile: (file: File | null) => void;
  choices: TranscribeChoices;
  setChoices: (choices: TranscribeChoices) => void;
}

const CurrentJobContext = createContext<CurrentJob | null>(null);

export function CurrentJobProvider({ children }: { children: ReactNode }) {
  const transcription = useTranscription();
  const [file, setFile] = useState<File | null>(null);
  const [choices, setChoices] = useState<TranscribeChoices>(defaultChoices);
  return (
    <CurrentJobContext.Provider value={{ transcription, file, setFile, choices, setChoices }}>{children}</CurrentJobContext.Provider>
  );
}

export function useCurrentJob(): CurrentJob {
  const job = useContext(CurrentJobContext);
  if (!job) throw new Error("useCurrentJob outside CurrentJobProvider");
  return job;
}
